from p20.cli import app

app()
