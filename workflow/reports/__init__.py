"""Reports for the secretariats and SKU, and their exports."""
