"""The architecture's import direction: physics and schemas stay pure."""

import subprocess
import sys


def test_physics_and_schemas_import_no_io_frameworks() -> None:
    code = (
        "import sys, physics.book, physics.levels, physics.score, physics.tape, physics.config, "
        "physics.fuel, physics.options, physics.events, "
        "schemas.dbn, schemas.envelope, schemas.level_signal\n"
        "bad = [m for m in ('confluent_kafka', 'bytewax', 'starlette', 'databento', 'uvicorn', "
        "'massive', 'websockets', 'tenacity', 'pyarrow') "
        "if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
