"""One module per page; each has `render(ctx)` and only draws."""
