// The seed's JavaScript example as printed in the README: `bun examples/seed-client.js`
// (with the server running: `npm run dev`). Stop it with Ctrl-C.

// Connect to WebSocket
const ws = new WebSocket('ws://localhost:8000/ws/1');

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
