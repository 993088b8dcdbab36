"""The command behind the make targets: the offline engine (`plan`), `.env` files (`env`), `bench`.

It imports the Pulumi library in `components/`; the library never imports it.
"""
