"""Guardian: the decision-log producer helper, the permissive-versus-strict delta, demo traffic."""
