"""Configuration from the environment: defaults, and one-line errors that name the variable."""

import unittest

from app.settings import DEFAULT_DB_PATH, Settings, SettingsError, from_env


class SettingsTest(unittest.TestCase):
    def test_defaults(self) -> None:
        s = from_env({})
        self.assertEqual(s, Settings())
        self.assertEqual((s.host, s.port, s.database_url), ("0.0.0.0", 8000, None))
        self.assertEqual(s.db_path, DEFAULT_DB_PATH)
        self.assertEqual(s.shutdown_timeout, 15)

    def test_values(self) -> None:
        s = from_env(
            {
                "HOST": "127.0.0.1",
                "PORT": "9000",
                "DATABASE_URL": "postgresql://u:p@db:5432/votes",
                "VOTE_DB_PATH": "/data/v.db",
                "LOG_LEVEL": "WARNING",
                "SHUTDOWN_TIMEOUT": "5",
                "DB_CONNECT_TIMEOUT": "3",
            }
        )
        self.assertEqual((s.host, s.port, s.log_level, s.shutdown_timeout), ("127.0.0.1", 9000, "warning", 5))
        self.assertEqual(s.database_url, "postgresql://u:p@db:5432/votes")
        self.assertEqual(s.db_connect_timeout, 3)
        self.assertEqual(from_env({"DATABASE_URL": "postgres://h/d"}).database_url, "postgres://h/d")
        self.assertIsNone(from_env({"DATABASE_URL": "  "}).database_url)

    def test_errors(self) -> None:
        cases = {
            "PORT": ["abc", "0", "65536", "-1", "80.5"],
            "SHUTDOWN_TIMEOUT": ["0", "x"],
            "DB_CONNECT_TIMEOUT": ["1", "61"],
            "LOG_LEVEL": ["loud"],
            "VOTE_DB_PATH": ["votes.db"],
        }
        for name, values in cases.items():
            for value in values:
                with self.subTest(name=name, value=value), self.assertRaises(SettingsError) as cm:
                    from_env({name: value})
                self.assertTrue(str(cm.exception).startswith(f"{name} must be"), str(cm.exception))
                self.assertNotIn("\n", str(cm.exception))

    def test_database_url_is_never_echoed(self) -> None:
        with self.assertRaises(SettingsError) as cm:
            from_env({"DATABASE_URL": "mysql://root:hunter2@db/votes"})
        self.assertEqual(str(cm.exception), "DATABASE_URL must be a postgresql:// or postgres:// URL")
