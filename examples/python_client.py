# The seed's "Python Client Example", exactly as printed. It needs only the `websockets` package
# (pip install websockets, or Debian's python3-websockets) and a server on port 8000 with users 1
# and 2 and no authentication (npm run dev). It sends one message to user 2, then prints every frame until Ctrl-C.
import asyncio
import websockets
import json

async def chat_client():
    uri = "ws://localhost:8000/ws/1"
    async with websockets.connect(uri) as websocket:
        # Send message
        message = {
            "type": "message",
            "recipient_id": 2,
            "message": "Hello from Python!",
            "message_type": "text",
            "timestamp": "2024-01-01T12:00:00"
        }
        await websocket.send(json.dumps(message))
        
        # Listen for responses
        async for message in websocket:
            data = json.loads(message)
            print(f"Received: {data}")

asyncio.run(chat_client())
