// The README's Node.js block, as a module: the tests use the client set-up and the token
// check exactly as the README shows them.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(join(here, "..", "..", "docs", "how-to", "node-bot.md"), "utf8");
const marker = readme.indexOf("<!-- node: client");
if (marker < 0) throw new Error("docs/how-to/node-bot.md has no '<!-- node: client' block");
const block = /```js\n([\s\S]*?)```/.exec(readme.slice(marker));
if (!block) throw new Error("docs/how-to/node-bot.md's node: client marker is not followed by a js block");
mkdirSync(join(here, ".readme"), { recursive: true });
const file = join(here, ".readme", "client.mjs");
writeFileSync(file, block[1]);

export const { graph, verifyNotification } = await import(pathToFileURL(file).href);
