"""The classroom app: a browser page that plays a scenario day by day for a class.

Modules:

- :mod:`lifecycle.app.state`: the controller (models, stepping, levers, comparison, uploads); no UI code;
- :mod:`lifecycle.app.explain`: short "explain" texts per stage framework, stage and policy type;
- :mod:`lifecycle.app.charts`: cheap SVG/PNG figure builders from aggregate series;
- :mod:`lifecycle.app.page`: the Solara page (``solara run lifecycle.app.page``), built on Mesa's visualisation parts;
- :mod:`lifecycle.app.server`: starts the server (``lifecycle app``).
"""
