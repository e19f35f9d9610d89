#!/usr/bin/env node
'use strict';
require('../dist/infra/cli/touchline.js');
