// The AI SDK's own client against a running taskchat: useChat's transport
// sends two turns, readUIMessageStream builds the assistant messages from
// the UI message stream, and the second turn continues the first's
// conversation. Run by scripts/usechat-check.
import { DefaultChatTransport, readUIMessageStream } from 'ai';

const base = process.argv[2];
const transport = new DefaultChatTransport({ api: base + '/api/usechat-check/chat' });

async function turn(messages) {
  const stream = await transport.sendMessages({
    chatId: 'usechat-check', messages, trigger: 'submit-message', messageId: undefined, abortSignal: undefined,
  });
  let last;
  for await (const m of readUIMessageStream({ stream, onError: (e) => { throw e; } })) last = m;
  return last;
}

function fail(why, value) {
  console.error('useChat check failed: ' + why + '\n' + JSON.stringify(value, null, 1));
  process.exit(1);
}

const u1 = { id: 'u1', role: 'user', parts: [{ type: 'text', text: 'add a task to buy milk and show my tasks' }] };
const a1 = await turn([u1]);
const tools = a1.parts.filter((p) => p.type === 'dynamic-tool');
const text = a1.parts.filter((p) => p.type === 'text').map((p) => p.text).join('');
if (!a1.id.startsWith('tc-') || tools.length !== 2 || tools[0].toolName !== 'add_task' || tools[0].state !== 'output-available' ||
    tools[0].output.status !== 'created' || !text.includes('Buy milk') || !a1.metadata || !a1.metadata.conversation_id) {
  fail('the first turn', a1);
}
const u2 = { id: 'u2', role: 'user', parts: [{ type: 'text', text: 'mark task ' + tools[0].output.task_id + ' as done' }] };
const a2 = await turn([u1, a1, u2]);
const done = a2.parts.find((p) => p.type === 'dynamic-tool');
if (!a2.metadata || a2.metadata.conversation_id !== a1.metadata.conversation_id || !done || done.toolName !== 'complete_task' ||
    done.state !== 'output-available') {
  fail('the second turn', a2);
}
console.log('useChat check passed: ai ' + process.env.AI_VERSION + ', conversation ' + a1.metadata.conversation_id + ', ' +
  a1.parts.length + ' + ' + a2.parts.length + ' parts');
