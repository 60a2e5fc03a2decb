"""loganalyzer: name the sending networks that break SMTP's rules."""
