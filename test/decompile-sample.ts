/** The Python source the decompile tests compile, decompile and verify. */

/** Nested functions, classes, lambdas, comprehensions, generators, closures, try, with, async. */
export const SAMPLE = `import os

GREETING = 'hello'

def outer(items, scale=2, *rest, flag=False, **options):
    total = 0
    doubled = [item * 7 for item in items if item]
    table = {key: value for key, value in options.items()}
    first = lambda x: x + total
    second = lambda y: y * scale
    def inner(z):
        nonlocal total
        total += z
        return (w for w in range(z) if w % 3)
    class Local:
        attribute = 5
        def method(self, a, b):
            return super().method(a - b) if a else {'x', 'y', 'z'}
    try:
        with open(os.devnull) as handle:
            handle.read()
    except (OSError, ValueError) as error:
        print(error)
    finally:
        total -= 1
    return doubled, table, first, second, inner, Local, {s for s in rest}

async def fetch(session, urls):
    async with session as s:
        async for u in s.get(urls):
            await u
    return [await v async for v in session]
`
