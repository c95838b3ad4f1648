"""Qt-free, torch-free domain core: images, layout, curves, documents."""
