"""The TA's console: the class live in a browser, review, adjust, publish (docs/console.md)."""
