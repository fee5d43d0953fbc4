"""One module per resource. A route module imports http/ and services/, never another route."""
