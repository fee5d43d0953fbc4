// /docs: Swagger UI (the copy bundled with the gateway, never a CDN) on /openapi.json, and, when
// the gateway uses the development secret, a button that authorizes as a demo customer.
window.addEventListener("DOMContentLoaded", () => {
  const ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    validatorUrl: null, // the default validator badge would call a server on the internet
    persistAuthorization: true,
    displayRequestDuration: true,
    tryItOutEnabled: false,
    defaultModelsExpandDepth: 0,
    docExpansion: "list",
  });
  window.ui = ui;
  offerDemoTokens(ui);
});

async function offerDemoTokens(ui) {
  const r = await fetch("/demo/tokens", { headers: { Accept: "application/json" } });
  if (!r.ok) return; // not a development gateway: paste a token into Authorize instead
  const { customers } = await r.json();
  const select = document.getElementById("demo-customer");
  select.replaceChildren(...customers.map((c) => new Option(`${c.name} (${c.sub})`, c.sub)));
  document.getElementById("demo-token").hidden = false;
  document.getElementById("demo-authorize").addEventListener("click", async () => {
    const minted = await fetch("/demo/tokens", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ customer: select.value }),
    });
    const body = await minted.json();
    ui.preauthorizeApiKey("bearer", body.token);
    document.getElementById("demo-authorized").textContent = `authorized as ${body.sub} until ${body.expires_at}`;
  });
}
