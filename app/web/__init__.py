"""The browser client: plain HTML, CSS and ES modules served by the service itself.

There is no build step and no separate front-end server: `pages/` holds the three
documents (`/`, `/p/{code}`, `/host`), `static/` the stylesheet and the modules they
load. The pages speak only the public contract (PROTOCOL.md), like any other client.
"""
