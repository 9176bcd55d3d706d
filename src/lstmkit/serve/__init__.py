"""`lstmkit serve`: trained runs behind an HTTP API (FastAPI on uvicorn) and a web page.

    app.py       the endpoints and the model thread
    guards.py    API key, body limit, deadlines, errors as JSON (a bug included: 500, traceback logged)
    schemas.py   what each endpoint accepts: every field typed and bounded
    contract.py  the OpenAPI document: every status, and what the served models accept
    batching.py  concurrent sentiment requests to one model gathered into one batched call
    streams.py   continuous batching of generation: requests join the running batch of streams
    static/      the page served at /
"""
