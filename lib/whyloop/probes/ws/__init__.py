"""The staged WebSocket probe: options, a recorder at the edge, a pure judge and its wording.

- :mod:`.options`: :class:`WsOptions` (every option, checked once) and the plan of one attempt
- :mod:`.observations`: what one attempt observed (plain data)
- :mod:`.recorder`: drives websockets' sans-I/O client over asyncio and fills an observation
- :mod:`.judge`, :mod:`.matrix`, :mod:`.wording`: observations in, a judged result out
- :mod:`.probe`: :func:`probe_websocket`, :func:`probe_ws`, :func:`probe_many`
"""
