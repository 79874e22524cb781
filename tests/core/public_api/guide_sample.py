# The guide's Python sample client (chapter 13.3.1.1.2), kept as published: the test runs it against the app.
# Only the page-layout breaks inside its f-strings are joined, which the published text splits across lines.
import requests
import re

UUID_PATTERN = re.compile(r'^[0-9a-fA-F]{8}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{12}$')

def send_sms(data, token, host):
    """
    :param data
    - channels (List[str])
    - from (str)
    - to (str)
    - message (str)
    - label (str, optional)
    - fallbackTtl (int, optional)
    - isFlashed (bool, optional)
    - acceptMO (bool, optional)
    - trafficType (str, optional)
    - buttonActionUrl (str, optional)
    - imageUrl (str, optional)
    - buttonCaption (str, optional)

    :param token
    :type token: str

    :param host
    :type host: str

    :return: None
    """
    url = f'https://{host}/api/send_sms'
    headers = {
        'Authorization': f'Bearer {token}',
        'Content-Type': 'application/json',
    }

    try:
        response = requests.post(url, json=data, headers=headers)
        response.raise_for_status()

        response_data = response.json()
        results = response_data.get('results', [])

        for result in results:
            try:
                dnis, send_result = result.split(':', 1)
            except ValueError:
                print(f'Invalid result format: {result}')
                continue

            if UUID_PATTERN.match(send_result):
                print(f'Message successfully sent to number {dnis}. Message id {send_result}')
            else:
                print(f'Error sending message to number {dnis}. Error = `{send_result}`')

    except requests.RequestException as e:
        print(f'Send exception: {str(e)}')
        if e.response is not None:
            print(f'Error response: {e.response.text}')
