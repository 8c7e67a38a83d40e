// The official TypeScript MCP SDK's client against a running taskchat's
// /api/{user}/mcp: initialize, list the five tools, call them, see a tool
// error as isError. Run by scripts/mcp-check.
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const base = process.argv[2];
function fail(why, value) {
  console.error('MCP check failed: ' + why + '\n' + JSON.stringify(value, null, 1));
  process.exit(1);
}

const client = new Client({ name: 'taskchat-mcp-check', version: '1' });
await client.connect(new StreamableHTTPClientTransport(new URL(base + '/api/mcp-check/mcp')));
const { tools } = await client.listTools();
const names = tools.map((t) => t.name).sort();
if (names.join(',') !== 'add_task,complete_task,delete_task,list_tasks,update_task' || JSON.stringify(tools).includes('user_id')) {
  fail('the tools', tools);
}
const added = await client.callTool({ name: 'add_task', arguments: { title: 'Water the ferns', priority: 'high' } });
const task = JSON.parse(added.content[0].text);
if (added.isError || task.status !== 'created' || !added.structuredContent || added.structuredContent.task_id !== task.task_id) {
  fail('add_task', added);
}
const listed = await client.callTool({ name: 'list_tasks', arguments: { status: 'pending' } });
if (!JSON.parse(listed.content[0].text).some((t) => t.id === task.task_id && t.priority === 'high')) fail('list_tasks', listed);
const done = await client.callTool({ name: 'complete_task', arguments: { task_id: task.task_id } });
if (done.isError || JSON.parse(done.content[0].text).status !== 'completed') fail('complete_task', done);
const missing = await client.callTool({ name: 'delete_task', arguments: { task_id: 999999 } });
if (!missing.isError || !missing.content[0].text.includes('not found')) fail('a missing task', missing);
await client.close();
const version = JSON.parse(readFileSync(new URL('./node_modules/@modelcontextprotocol/sdk/package.json', import.meta.url))).version;
console.log('MCP check passed: @modelcontextprotocol/sdk ' + version + ', ' + tools.length + ' tools, task ' + task.task_id);
