#!/bin/sh
echo "hello <world> & friends"
