# The seed's "Python Client Example", printed unchanged in the README; here `uri` comes from
# SWITCHBOARD_URL (default http://localhost:8000, the seed's address) so it can reach a server on
# another port. It needs the `websockets` package for the python3 that runs it, and a server with
# users 1 and 2 and no authentication (npm run dev). It sends one message to user 2, then prints
# every frame until Ctrl-C:
#   SWITCHBOARD_URL=http://localhost:8001 python3 examples/python_client.py
import os

WS_URL = os.environ.get("SWITCHBOARD_URL", "http://localhost:8000").rstrip("/").replace("http", "ws", 1)

# The seed's code from here on.
import asyncio
import websockets
import json

async def chat_client():
    uri = WS_URL + "/ws/1"
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
