"""Guardian in the report: the permissive-versus-strict delta built from decision logs."""
