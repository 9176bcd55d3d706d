"""`lstmkit serve`: trained runs behind an HTTP API (FastAPI on uvicorn) and a web page.

    app.py       the server: each task's endpoints (its service.py), /v1/models, /v1/inspect, the model thread
    guards.py    API key, body limit, deadlines, errors as JSON (a bug included: 500, traceback logged)
    schemas.py   what every request shares: strict fields, bounds from the limits, the size caps
    contract.py  what a task's service declares, and the OpenAPI document: every status, what models accept
    batching.py  concurrent requests to one model gathered into one batched call
    static/      the page served at /, into which each task's panel goes
"""
