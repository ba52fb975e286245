// The seed's JavaScript example as printed in the README, where the URL is the seed's
// 'ws://localhost:8000/ws/1'; here the address comes from SWITCHBOARD_URL (default
// http://localhost:8000) so it can reach a server on another port. With the server running
// (`npm run dev`), stop it with Ctrl-C:
//   SWITCHBOARD_URL=http://localhost:8001 node_modules/.bin/bun examples/seed-client.js
// A browser has no process.env: there it connects to the seed's address.
const WS_URL = (globalThis.process?.env.SWITCHBOARD_URL ?? 'http://localhost:8000').replace(/\/$/, '').replace(/^http/, 'ws');

// Connect to WebSocket
const ws = new WebSocket(`${WS_URL}/ws/1`);

ws.onopen = () => {
    // Send a message
    ws.send(JSON.stringify({
        type: 'message',
        recipient_id: 2,
        message: 'Hello!',
        message_type: 'text',
        timestamp: new Date().toISOString()
    }));

    // Send typing indicator
    ws.send(JSON.stringify({
        type: 'typing',
        recipient_id: 2,
        is_typing: true,
        timestamp: new Date().toISOString()
    }));
};

// Listen for messages
ws.onmessage = function(event) {
    const data = JSON.parse(event.data);
    console.log('Received:', data);
};
