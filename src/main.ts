export async function startGateway() { throw new Error('todo'); }
