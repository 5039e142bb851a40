// Verify Standard Webhooks messages with the npm reference library, independently of the
// Python one that signs them. Reads {"secret": "whsec_…", "messages": [{"headers": {…},
// "body": "…"}]} on stdin; prints one {"ok": true} or {"ok": false, "error": "…"} per message.
import { Webhook } from "standardwebhooks";

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
const { secret, messages } = JSON.parse(input);
const webhook = new Webhook(secret.replace(/^whsec_/, ""));
const results = messages.map(({ headers, body }) => {
  try {
    webhook.verify(body, headers);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: String(error.message || error) };
  }
});
process.stdout.write(JSON.stringify(results));
