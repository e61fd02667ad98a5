"""Site stages: render the page from templates, then write the site folder atomically."""
