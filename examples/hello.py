"""A small program to look inside: pyxray's bundled example."""


def greet(names, punctuation="!"):
    """Greet everyone whose name is not empty."""
    shout = lambda s: s.upper()
    greetings = [f"Hello, {shout(n)}{punctuation}" for n in names if n]
    try:
        return "\n".join(greetings)
    except TypeError as exc:
        return f"cannot greet: {exc}"


def counter():
    count = 0

    def bump(step=1):
        nonlocal count
        count += step
        return count

    return bump


if __name__ == "__main__":
    print(greet(["Ada", "", "Guido"]))
