// Starts Swagger UI on /schema/swagger; the page passes the schema URL and the CSRF names in data attributes.
(function () {
  "use strict";
  function cookie(name) {
    const found = document.cookie.split("; ").find((part) => part.startsWith(name + "="));
    return found ? decodeURIComponent(found.slice(name.length + 1)) : undefined;
  }
  window.addEventListener("DOMContentLoaded", function () {
    const container = document.getElementById("swagger-container");
    const { specUrl, csrfCookie, csrfHeader } = container.dataset;
    window.SwaggerUIBundle({
      url: specUrl,
      dom_id: "#swagger-container",
      deepLinking: true,
      presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIStandalonePreset],
      layout: "BaseLayout",
      requestInterceptor: function (request) {
        const token = csrfCookie ? cookie(csrfCookie) : undefined;
        if (token !== undefined) {
          request.headers[csrfHeader] = token;
        }
        return request;
      },
    });
  });
})();
