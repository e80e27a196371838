"""Routers, one module per resource; ``workbench.web.app`` includes every module's ``router``."""
