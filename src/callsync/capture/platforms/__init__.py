"""Platform payload converters. Each turns one platform's end-of-call payload into a CallRecord."""
