"""The sandbox's end-to-end suite: 25 priority-1 tests of an AI-agent chat platform's API.

Run it with :func:`whyloop.sandbox.run_e2e` (or ``whyloop sandbox e2e``); it
targets ``WHYLOOP_BACKEND_URL``, ``WHYLOOP_AUTH_URL`` and ``WHYLOOP_WS_URL``,
so it runs against any deployment with the same API. Every wait is bounded;
``WHYLOOP_E2E_TIMEOUT_SCALE`` multiplies every timeout.
"""
