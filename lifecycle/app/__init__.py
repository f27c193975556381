"""The classroom app: a browser page that plays a scenario day by day for a class.

Modules (no UI code except in ``page``):

- :mod:`lifecycle.app.controller`: the controller (models, stepping, levers, comparison, uploads);
- :mod:`lifecycle.app.levers`: the lever panels' controls, built from the policies' ``Params`` metadata;
- :mod:`lifecycle.app.settings`: one combination of lever values (a scenario) and the models it builds;
- :mod:`lifecycle.app.snapshots`: what the charts read, and the metrics the page compares;
- :mod:`lifecycle.app.limits`: population, run length, speed and arrival limits;
- :mod:`lifecycle.app.sources`: presets and upload labels;
- :mod:`lifecycle.app.launch`: plugin files and the start scenario handed to the page process;
- :mod:`lifecycle.app.explain`: short "explain" texts per stage framework, stage and policy type;
- :mod:`lifecycle.app.charts`: cheap SVG/PNG figure builders from aggregate series;
- :mod:`lifecycle.app.page`: the Solara page (``solara run lifecycle.app.page``), built on Mesa's visualisation parts;
- :mod:`lifecycle.app.server`: starts the server (``lifecycle app``);
- :mod:`lifecycle.app.asgi`: the server process: Solara's app behind the guard, served by uvicorn;
- :mod:`lifecycle.app.guard`: the HTTP ``Host`` and WebSocket ``Origin`` checks (``--allow-origin``);
"""
