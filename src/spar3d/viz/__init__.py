"""Look at data: an HTML gallery of samples with markers drawn, and dataset statistics."""
