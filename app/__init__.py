"""The classroom app: a browser page that plays a scenario day by day for a class.

Modules:

- :mod:`app.state`: the controller (models, stepping, levers, comparison, uploads); no UI code;
- :mod:`app.explain`: short "explain" texts per stage framework, stage and policy type;
- :mod:`app.charts`: cheap SVG/PNG figure builders from aggregate series;
- :mod:`app.page`: the Solara page (``solara run app.page``), built on Mesa's visualisation parts;
- :mod:`app.server`: starts the server (``lifecycle app``).
"""
