// The guide's JavaScript sample client (chapter 13.3.1.1.4), kept as published: the test runs it against the app.
// Only the page-layout breaks inside its template strings are joined, which the published text splits across lines.
const axios = require('axios');

const UUID_PATTERN = /^[0-9a-fA-F]{8}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{12}$/;

/**
 * @param {Array<{
 *   channels: string[],
 *   from: string,
 *   to: string,
 *   message: string,
 *   label?: string,
 *   fallbackTtl?: number,
 *   isFlashed?: boolean,
 *   acceptMO?: boolean,
 *   trafficType?: "TRANSACTION" | "PROMOTION",
 *   buttonActionUrl?: string,
 *   imageUrl?: string,
 *   buttonCaption?: string
 * }>} data
 *
 * @param {string} token
 * @param {string} host
 *
 * @returns {Promise<void>}
 */

async function sendSms(data, token, host) {
  try {
    const response = await axios.post(
      `https://${host}/api/send_sms`,
      data,
      {
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
        },
      }
    );

    const results = response.data.results;

    for (const result of results) {
      const [dnis, sendResult] = result.split(':');

      if (UUID_PATTERN.test(sendResult)) {
        console.info(`Message successfully sent to number ${dnis}. Message id ${sendResult}`);
      } else {
        console.warn(`Error sending message to number ${dnis}. Error = \`${sendResult}\``);
      }
    }

  } catch (error) {
    console.error('Send exception', error.response?.data || error.message);
  }
}

// Not part of the guide: how the test calls it (data, token and host as arguments).
sendSms(JSON.parse(process.argv[2]), process.argv[3], process.argv[4]);
