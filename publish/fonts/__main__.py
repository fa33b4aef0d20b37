"""`python -m publish.fonts`: generate the label glyphs (when missing or stale) and print where."""

from publish.fonts.glyphs import glyphs_dir

if __name__ == "__main__":
    print(glyphs_dir())
