// The bot's notification endpoint: a plain Node HTTP server that keeps what Graph POSTs.
import { once, EventEmitter } from "node:events";
import { createServer } from "node:http";

export class NotificationEndpoint extends EventEmitter {
  received = []; // { authorization, body } in the order they arrived

  async start() {
    this.server = createServer((request, response) => {
      const chunks = [];
      request.on("data", (chunk) => chunks.push(chunk));
      request.on("end", () => {
        this.received.push({
          authorization: request.headers.authorization,
          body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
        });
        response.writeHead(202).end();
        this.emit("notification");
      });
    });
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.url = `http://127.0.0.1:${this.server.address().port}/api/calls`;
    return this;
  }

  /** Each notification about the call (one per POST's first item), in order. */
  about(callId) {
    return this.received.filter(({ body }) =>
      body.value[0].resourceUrl.includes(`/calls/${callId}`),
    );
  }

  /** Resolves once `count` POSTs about the call have arrived; rejects after `ms`. */
  async waitFor(callId, count, ms = 5000) {
    const signal = AbortSignal.timeout(ms);
    while (this.about(callId).length < count) {
      try {
        await once(this, "notification", { signal });
      } catch {
        throw new Error(`${this.about(callId).length} of ${count} notifications after ${ms} ms`);
      }
    }
    return this.about(callId).slice(0, count);
  }

  close() {
    this.server.closeAllConnections();
    this.server.close();
  }
}
