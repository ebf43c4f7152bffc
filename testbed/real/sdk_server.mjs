// A bookmarks MCP server written the way a developer writes one with the TypeScript SDK
// (McpServer, StdioServerTransport, zod schemas).
//
// It is one of mcpfuzz's real-server fixtures: no planted bugs, nothing tuned to the
// fuzzer, just the SDK's usual shapes (typed tools, an enum, optional and array/record
// parameters, a resource, a resource template, a prompt, a log message and progress
// notifications).
//
//     node testbed/real/sdk_server.mjs <cache>/node
//
// The argument is the directory whose node_modules holds @modelcontextprotocol/sdk and
// zod (scripts/install-real-servers puts them in <cache>/node); without it the first
// NODE_PATH entry's parent is used. The fixture lives in the repository, away from any
// node_modules, and ESM `import` ignores NODE_PATH, so the packages are loaded with a
// require function rooted at that directory (their CommonJS builds).

import { createRequire } from "node:module";
import path from "node:path";

const installDir =
    process.argv[2] ??
    (process.env.NODE_PATH ? path.dirname(process.env.NODE_PATH.split(path.delimiter)[0]) : null);
if (!installDir) {
    console.error("usage: node sdk_server.mjs DIR  (DIR/node_modules holds @modelcontextprotocol/sdk)");
    process.exit(2);
}
const require = createRequire(path.join(path.resolve(installDir), "package.json"));
const { McpServer, ResourceTemplate } = require("@modelcontextprotocol/sdk/server/mcp.js");
const { StdioServerTransport } = require("@modelcontextprotocol/sdk/server/stdio.js");
const { z } = require("zod");

const server = new McpServer(
    { name: "bookmarks", version: "1.0.0" },
    { capabilities: { logging: {} }, instructions: "Save, tag and search bookmarks." },
);

/** @type {Map<number, {id: number, url: string, title: string, tags: string[], visits: number, notes: Record<string, string>}>} */
const bookmarks = new Map();
let nextId = 1;

const asText = (value) => ({
    content: [{ type: "text", text: typeof value === "string" ? value : JSON.stringify(value, null, 2) }],
});
const failure = (message) => ({ content: [{ type: "text", text: message }], isError: true });

function find(id) {
    const bookmark = bookmarks.get(id);
    if (!bookmark) {
        throw new Error(`no bookmark with id ${id}`);
    }
    return bookmark;
}

server.registerTool(
    "add_bookmark",
    {
        title: "Add a bookmark",
        description: "Save a URL with a title and optional tags.",
        inputSchema: {
            url: z.string().url(),
            title: z.string().min(1).max(200),
            tags: z.array(z.string().min(1).max(30)).max(10).optional(),
        },
    },
    async ({ url, title, tags }) => {
        for (const bookmark of bookmarks.values()) {
            if (bookmark.url === url) {
                return failure(`already saved as #${bookmark.id}`);
            }
        }
        const bookmark = { id: nextId++, url, title, tags: [...new Set(tags ?? [])], visits: 0, notes: {} };
        bookmarks.set(bookmark.id, bookmark);
        return asText(bookmark);
    },
);

server.registerTool(
    "search_bookmarks",
    {
        title: "Search bookmarks",
        description: "Find bookmarks whose title or URL contains the query.",
        inputSchema: {
            query: z.string(),
            tag: z.string().optional(),
            sort: z.enum(["newest", "oldest", "title", "visits"]).default("newest"),
            limit: z.number().int().min(1).max(50).default(10),
        },
        annotations: { readOnlyHint: true },
    },
    async ({ query, tag, sort, limit }) => {
        const needle = query.toLowerCase();
        const order = {
            newest: (a, b) => b.id - a.id,
            oldest: (a, b) => a.id - b.id,
            title: (a, b) => a.title.localeCompare(b.title),
            visits: (a, b) => b.visits - a.visits,
        };
        const hits = [...bookmarks.values()]
            .filter((b) => b.title.toLowerCase().includes(needle) || b.url.toLowerCase().includes(needle))
            .filter((b) => tag === undefined || b.tags.includes(tag))
            .sort(order[sort])
            .slice(0, limit);
        return asText(hits.length ? hits : "no bookmarks match");
    },
);

server.registerTool(
    "visit",
    {
        description: "Count a visit to a bookmark and return its URL.",
        inputSchema: { id: z.number().int().positive() },
    },
    async ({ id }) => {
        const bookmark = find(id);
        bookmark.visits += 1;
        return asText(bookmark.url);
    },
);

server.registerTool(
    "annotate",
    {
        description: "Attach notes (key -> text) to a bookmark; an empty text removes a note.",
        inputSchema: {
            id: z.number().int().positive(),
            notes: z.record(z.string(), z.string().max(1000)),
        },
    },
    async ({ id, notes }) => {
        const bookmark = find(id);
        for (const [key, text] of Object.entries(notes)) {
            if (text === "") {
                delete bookmark.notes[key];
            } else {
                bookmark.notes[key] = text;
            }
        }
        return asText(bookmark.notes);
    },
);

server.registerTool(
    "delete_bookmark",
    {
        description: "Delete a bookmark.",
        inputSchema: { id: z.number().int().positive() },
        annotations: { destructiveHint: true },
    },
    async ({ id }) => {
        const bookmark = find(id);
        bookmarks.delete(id);
        await server.sendLoggingMessage({ level: "notice", logger: "bookmarks", data: `deleted #${id} ${bookmark.url}` });
        return asText(`deleted #${id}`);
    },
);

server.registerTool(
    "check_links",
    {
        description: "Check every saved URL for an obviously broken form, reporting progress.",
        inputSchema: { scheme: z.enum(["http", "https", "any"]).optional() },
    },
    async ({ scheme }, extra) => {
        const all = [...bookmarks.values()];
        const progressToken = extra._meta?.progressToken;
        const broken = [];
        for (const [index, bookmark] of all.entries()) {
            if (progressToken !== undefined) {
                await extra.sendNotification({
                    method: "notifications/progress",
                    params: { progressToken, progress: index, total: all.length },
                });
            }
            const parsed = new URL(bookmark.url);
            if (scheme && scheme !== "any" && parsed.protocol !== `${scheme}:`) {
                broken.push(bookmark.id);
            }
        }
        await server.sendLoggingMessage({ level: "info", data: `checked ${all.length} links` });
        return asText({ checked: all.length, broken });
    },
);

server.registerResource(
    "all-bookmarks",
    "bookmarks://all",
    { title: "All bookmarks", mimeType: "application/json" },
    async (uri) => ({
        contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify([...bookmarks.values()]) }],
    }),
);

server.registerResource(
    "bookmark",
    new ResourceTemplate("bookmarks://{id}", { list: undefined }),
    { title: "One bookmark", mimeType: "application/json" },
    async (uri, { id }) => ({
        contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(find(Number(id))) }],
    }),
);

server.registerPrompt(
    "reading_list",
    {
        title: "Reading list",
        description: "Ask for a reading plan from the saved bookmarks on a topic.",
        argsSchema: { topic: z.string(), minutes: z.string().optional() },
    },
    ({ topic, minutes }) => {
        const titles = [...bookmarks.values()].map((b) => `- ${b.title} (${b.url})`).join("\n");
        return {
            messages: [
                {
                    role: "user",
                    content: {
                        type: "text",
                        text: `Plan ${minutes ?? "30"} minutes of reading about ${topic} from:\n${titles || "(nothing saved)"}`,
                    },
                },
            ],
        };
    },
);

await server.connect(new StdioServerTransport());
console.error("bookmarks MCP server running on stdio");
