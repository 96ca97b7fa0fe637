"""Drives a running Raymundo server with the official clients: Twilio's RequestValidator
signs a webhook (for the URL with and without the port), the openai client chats (whole and
streamed). Usage: python python_clients.py BASE_URL TWILIO_TOKEN PUBLIC_URL"""
import sys
import urllib.parse
import urllib.request

from openai import OpenAI
from twilio.request_validator import RequestValidator

base, token, public = sys.argv[1], sys.argv[2], sys.argv[3]
validator = RequestValidator(token)
for i, signed_url in enumerate([public + "/twilio", public.replace("https://bot.example.com", "https://bot.example.com:443") + "/twilio"]):
    params = {
        "MessageSid": f"SMpy{i}",
        "AccountSid": "AC123",
        "From": "whatsapp:+5215550001",
        "To": "whatsapp:+14155238886",
        "Body": f"hola {i}",
        "NumMedia": "0",
    }
    signature = validator.compute_signature(signed_url, params)
    req = urllib.request.Request(
        base + "/twilio",
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
    )
    twiml = urllib.request.urlopen(req).read().decode()
    assert f"<Message>Respuesta a: hola {i}</Message>" in twiml, twiml

client = OpenAI(base_url=base + "/v1", api_key="unused")
models = [m.id for m in client.models.list()]
assert models == ["raymundo"], models
r = client.chat.completions.create(model="raymundo", messages=[{"role": "user", "content": "¿horario?"}], user="py")
assert r.choices[0].message.content == "Respuesta a: ¿horario?", r
stream = client.chat.completions.create(
    model="raymundo", messages=[{"role": "user", "content": "stream esto"}], stream=True
)
text = "".join(c.choices[0].delta.content or "" for c in stream)
assert text == "Respuesta a: stream esto", text
print("ok")
