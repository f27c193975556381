"""Engines that step all customers of a :class:`~sim.model.CustomerModel` through one day."""
