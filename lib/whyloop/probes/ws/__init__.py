"""The staged WebSocket probe: options, a recorder at the edge, a pure judge and its wording.

- :mod:`.options`: :class:`WsOptions` (every option, checked once) and the plan of one attempt;
  :mod:`.inputs` checks headers, cookies and messages and finds the credentials among them
- :mod:`.observations`: what one attempt observed (plain data); :mod:`.patterns`: the
  message patterns (a JSON ``type``, or ``re:`` and a regular expression)
- :mod:`.recorder`: drives websockets' sans-I/O client over asyncio and fills an observation;
  :mod:`.talk` is the conversation on the open socket, :mod:`.plain` the plain GET asked
  after a refused upgrade
- :mod:`.judge`, :mod:`.judge_socket`, :mod:`.matrix`, :mod:`.protocols`, :mod:`.wording`,
  :mod:`.wording_auth`: observations in, a judged result out
- :mod:`.recipes`: the exact command for each common protocol (GraphQL, Socket.IO, Jupyter)
- :mod:`.probe`: :func:`probe_websocket`, :func:`probe_ws`, :func:`probe_many`
"""
