"""The package runs on Python 3.9: its modules parse as 3.9 source (no
``match``, no parenthesised context managers, no ``X | Y`` outside
annotations ...). Library calls newer than 3.9 are kept out by review."""
import ast
import pathlib
import unittest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "training_registry"


class Python39(unittest.TestCase):
    def test_every_module_parses_as_python_3_9(self):
        modules = sorted(PACKAGE.glob("*.py"))
        self.assertGreater(len(modules), 5)
        for path in modules:
            with self.subTest(module=path.name):
                ast.parse(path.read_text(), filename=str(path), feature_version=(3, 9))

    def test_standard_library_only(self):
        allowed = {"__future__", "base64", "dataclasses", "datetime", "decimal", "email", "hashlib", "hmac", "http",
                   "itertools", "json", "math", "os", "random", "re", "sys", "time", "traceback", "typing", "urllib",
                   "uuid", "warnings"}
        for path in PACKAGE.glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    self.assertIn(name.split(".")[0], allowed, f"{path.name} imports {name}")


if __name__ == "__main__":
    unittest.main()
