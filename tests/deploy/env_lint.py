"""deploy/env.example, the file operators copy to .env (compose) or /etc/cpaas/env (systemd): every variable the
processes read from it is documented, nothing it names is unknown, the required ones are set, and no secret is
committed in it.
"""

from tests.deploy.inventory import DEVELOPMENT_ONLY, ENV_LINE, SECRET_NAME, ProjectFacts, env_file_entries


def lint_env_example(text: str, facts: ProjectFacts, compose_variables: set[str]) -> list[str]:
    """`compose_variables`: the names compose.yaml interpolates (they live in the same .env)."""
    entries = env_file_entries(text)
    names = [match.group(2) for match in map(ENV_LINE.match, (line.strip() for line in text.splitlines())) if match]
    problems = [f"duplicate: {name} appears twice" for name in sorted(set(entries)) if names.count(name) > 1]
    for name in sorted(set(entries) - facts.known_env - compose_variables):
        problems.append(f"unknown: {name} is read by no process and no compose.yaml substitution")
    for name in sorted(set(entries) & DEVELOPMENT_ONLY):
        problems.append(f"development-only: {name} does not belong in a production file")
    for name in sorted(facts.documented_env - set(entries)):
        problems.append(f"undocumented: {name} (read by the settings, gunicorn or bin/serve) is not in the file")
    for name in sorted(compose_variables - set(entries)):
        problems.append(f"undocumented: compose.yaml substitutes {name}, which the file does not name")
    for name in sorted(facts.required_env):
        if not entries.get(name, ("", False))[1]:
            problems.append(f"required: {name} is not set (uncommented) in the file")
    for name, (value, _) in sorted(entries.items()):
        if SECRET_NAME.search(name) and value:
            problems.append(f"secret: {name} has a value; the example must leave secrets empty")
    return problems
