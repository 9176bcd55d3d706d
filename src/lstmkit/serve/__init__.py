"""`lstmkit serve`: trained runs behind an HTTP API (FastAPI on uvicorn) and a web page.

    app.py       the endpoints, limits, API key, errors as JSON
    schemas.py   what each endpoint accepts: every field typed and bounded
    batching.py  concurrent sentiment requests to one model gathered into one batched call
    streams.py   continuous batching of generation: requests join the running batch of streams
    static/      the page served at /
"""
