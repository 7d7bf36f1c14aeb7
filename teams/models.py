"""Teams, memberships and roles arrive with the Teams issue (see ROADMAP)."""
