from p20.cli import app

# one name, `python -m p20` or `p20`: the shell completion is keyed on it (_P20_COMPLETE)
app(prog_name="p20")
