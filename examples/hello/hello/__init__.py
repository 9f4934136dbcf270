"""The hello example's package."""
