"""nabla.nn.utils: gradient clipping"""
