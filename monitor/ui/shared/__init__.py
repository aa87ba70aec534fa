"""What every screen shares: theme, fitted label, dialog style, text formatting."""
