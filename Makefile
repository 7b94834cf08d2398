# The stable interface: `make run`, `make test`, `make bench`. Only Python 3.11+ is needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEV    := DJANGO_DEBUG=1

.PHONY: install run test bench guide lint typecheck messages clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

run: install
	$(DEV) $(BIN)/python manage.py compile_translations
	$(DEV) $(BIN)/python manage.py migrate --noinput
	$(DEV) $(BIN)/python manage.py seed_demo
	@echo "Kandidaatbeheer draait op http://127.0.0.1:8000 (stoppen: Ctrl+C)"
	$(DEV) $(BIN)/python manage.py runserver 127.0.0.1:8000

test: install
	$(DEV) $(BIN)/python manage.py compile_translations >/dev/null
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench $(BENCH_ARGS)

# Regenerates the screenshots of the Dutch user guide (docs/handleiding/img) from the
# end-to-end tests. Needs Chromium (/usr/bin/chromium) and Redis for the import scenario.
guide: install
	$(DEV) $(BIN)/python manage.py compile_translations >/dev/null
	KB_GUIDE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/e2e -q

messages: install
	$(DEV) $(BIN)/python manage.py update_translations

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy accounts candidates imports

clean:
	rm -rf $(VENV) db.sqlite3 test_db.sqlite3 media staticfiles var
